//! driftlock: audits Terraform/OpenTofu state against the cloud and closes a gate when they disagree.
