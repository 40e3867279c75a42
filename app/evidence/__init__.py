"""Evidence: an educator's attempts at a micro-credential — text answers, links and files
gathered over days, autosaved without loss, and submitted for review."""
