"""The transactional outbox: every SMS, voice call and e-mail is a row before it is anything else."""
