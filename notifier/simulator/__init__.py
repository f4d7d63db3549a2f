"""Local stand-ins for the providers the notifier talks to, for tests, benches and the demo."""
