// The MooringDrivers module; see docs/architecture.md.
