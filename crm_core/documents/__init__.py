"""Print forms (invoice, proforma, credit note, contract, act, order confirmation) and the
company's own details that every form carries."""
