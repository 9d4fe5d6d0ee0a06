"""The pure core: domain model, rules, money and time. No I/O frameworks here."""
