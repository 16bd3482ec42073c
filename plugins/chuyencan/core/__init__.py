"""What every flow shares: settings, vocabulary, warehouse, inbox plumbing, messages."""
