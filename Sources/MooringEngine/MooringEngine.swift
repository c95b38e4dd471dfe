// The MooringEngine module; see docs/architecture.md.
