"""AWS wire formats spoken by the management plane: the query protocol in, XML out."""
