"""What the API and the workers share: settings, errors, typed messages."""
