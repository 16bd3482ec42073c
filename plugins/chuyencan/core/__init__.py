"""What every flow shares: settings, contract vocabulary, reference data, warehouse plumbing."""
