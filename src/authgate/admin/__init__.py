"""The management API: IAM and STS operations over the AWS query protocol."""
