"""register stage of cassis-pipe."""
