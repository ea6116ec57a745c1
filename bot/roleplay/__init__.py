"""Role-play practice: the buyer engine, personas from stored stakeholders, and the scorer."""
