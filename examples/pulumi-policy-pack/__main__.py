"""ciiguard's residency policies as a Pulumi CrossGuard policy pack.

    pulumi preview --policy-pack path/to/examples/pulumi-policy-pack

Every policy ciiguard knows runs here: the built-in CII001-CII003 and those of installed ciiguard
plugins (entry points in the pack's virtualenv). Mandatory policies block the update.
"""

from ciiguard.pulumi import policy_pack

policy_pack("ciiguard-residency")
