"""ciiguard plugin: classified data stores must use a customer-managed KMS key in AWS China."""

__version__ = "0.1.0"
