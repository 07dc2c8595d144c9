"""User pools: the identity provider authgate runs itself (keys, tokens, discovery)."""
