"""Review and grading: assessors judge submitted evidence against the rubric; decisions, and
the durable events they leave for the gradebook and badge issuance."""
