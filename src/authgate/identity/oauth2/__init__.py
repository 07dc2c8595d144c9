"""The OAuth 2.0 / OpenID Connect endpoints of the user pools: a plane translating HTTP to the
identity services (`identity.oauth_authorize`, `identity.oauth_tokens`, federation)."""
