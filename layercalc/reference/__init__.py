"""The reference executor: tiny forward passes that cross-check the rules engine."""
