"""The hosted sign-in pages of the user pools: server-rendered HTML forms, no JavaScript."""
