/// What the model server knows of the task a statement or connect runs on.
enum SimulationContext {
    /// The operation whose task this is (inherited by tasks it starts, such as the pool's prober).
    @TaskLocal static var operation: Int?
}
