"""E-mail newsletters: sandboxed templates, recipients by client filters, test send, unsubscribe."""
