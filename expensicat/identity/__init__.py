"""People who sign in: users, the organizations they belong to, their passwords."""
