"""codec stage of cassis-pipe."""
