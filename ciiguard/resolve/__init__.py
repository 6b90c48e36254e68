"""Stage 2, resolve: from the files on disk to the resolved model every policy reads.

Enters: the scanned paths (``discover``), then the parsers' resources. Leaves: resources with
their location verdict (``mainland``/``outside``/``unknown`` and why), data-bearing and scope
(``classify``: the tag convention, overridable by the ``ciiguard_classify`` hook), flows to every
place their data is replicated or copied to (``flows``, from the catalogue's rules), and regions
inherited from parents where a type has none of its own (``parent_region``). ``locate.resolve``
does this once per scan, so every policy and plugin sees the same answer. Nothing here knows a
file format or a policy.
"""
