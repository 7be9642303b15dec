"""products stage of cassis-pipe."""
