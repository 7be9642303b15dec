"""geometry stage of cassis-pipe."""
