"""sim stage of cassis-pipe."""
