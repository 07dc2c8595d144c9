"""Where state lives: storage Protocols (`base`) and their backends (`sql`, ...)."""
