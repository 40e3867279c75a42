"""Where people stand on a course activity's micro-credential: the activity's page, who has
opened it, the class's progress. It reads evidence, grading and linking through their public
functions and is imported back by none of them (``tests/test_dependencies.py``)."""
