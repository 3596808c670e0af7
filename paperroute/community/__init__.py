"""Community: accounts by email link, votes, comments, submissions, rate limits and trending."""
