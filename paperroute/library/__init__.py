"""Library: what belongs to one reader (saves, follows, "not interested") and For you."""
