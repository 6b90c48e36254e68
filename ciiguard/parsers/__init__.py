"""Input parsers: Terraform HCL (and, through plugins, other formats) into the shared model."""
