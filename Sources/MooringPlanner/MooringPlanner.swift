// The MooringPlanner module; see docs/architecture.md.
