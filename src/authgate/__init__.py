"""authgate: the security model of AWS API Gateway in front of any API."""

__version__ = "0.1.0"
