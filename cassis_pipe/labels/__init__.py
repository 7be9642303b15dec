"""labels stage of cassis-pipe."""
