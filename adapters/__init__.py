"""Provider adapters: one subpackage per provider."""
