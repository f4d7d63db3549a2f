"""The SMS a client gets when their order enters a status with an SMS text."""
