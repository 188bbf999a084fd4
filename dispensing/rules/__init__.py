"""Pure clinical rules: no database, no clock, no web. Time is always a parameter."""
