extension PoolStateMachine {
    /// The pool's sessions, each in the place its ``SessionID`` names, a closed session's place taken by the next
    /// one opened: found by index, without hashing, on every lease and return.
    ///
    /// A place is not an optional ``Session``: reading a field of an optional element copies the whole element out
    /// first (an outlined copy through the optional's value witnesses, and a retain and a release of its
    /// connection), and the lending and the return of a session read several. A place holds the same fields, its
    /// connection nil while it is free, and is read in place; ``subscript(id:)`` makes a ``Session`` of it for the
    /// paths that want one.
    package struct Sessions {
        private struct Place {
            var id: SessionID
            /// Nil while the place is free.
            var connection: Connection?
            var epoch: Int
            var endOfLife: Instant
            var state: Session.State
        }

        private var places: [Place] = []
        private var free: [Int] = []
        /// How many sessions the pool has, whatever their state.
        package private(set) var count = 0

        /// Whether any session is in `state`.
        package func contains(_ state: Session.State) -> Bool {
            places.contains { $0.connection != nil && $0.state == state }
        }

        /// The session `id` names, or nil if it is not one of the pool's (any more).
        package subscript(id: SessionID) -> Session? {
            guard holds(id), let connection = places[id.index].connection else { return nil }
            let place = places[id.index]
            return Session(
                id: id, connection: connection, epoch: place.epoch, endOfLife: place.endOfLife, state: place.state
            )
        }

        // The accessors below take the id of a session of the pool, as every caller of the machine's methods must;
        // a debug build checks it (the id of a session since removed would read the place's next session).

        /// The state of session `id`.
        func state(of id: SessionID) -> Session.State {
            assert(holds(id))
            return places[id.index].state
        }

        /// The connection of session `id`.
        func connection(of id: SessionID) -> Connection {
            assert(holds(id))
            return places[id.index].connection!
        }

        /// Whether session `id` is of `epoch` and within its lifetime at `now`.
        func isCurrent(_ id: SessionID, epoch: Int, now: Instant) -> Bool {
            assert(holds(id))
            return places[id.index].epoch == epoch && now < places[id.index].endOfLife
        }

        /// When session `id` is past its lifetime.
        func endOfLife(of id: SessionID) -> Instant {
            assert(holds(id))
            return places[id.index].endOfLife
        }

        /// Whether `id` names a session of the pool that is lent out.
        func isLeased(_ id: SessionID) -> Bool {
            holds(id) && places[id.index].state == .leased
        }

        /// Whether `id` names a session of the pool.
        private func holds(_ id: SessionID) -> Bool {
            id.index < places.count && places[id.index].id == id && places[id.index].connection != nil
        }

        /// Adds a session and returns its id; `value` tells it from the sessions that had its place before.
        mutating func add(_ connection: Connection, value: Int, epoch: Int, endOfLife: Instant) -> SessionID {
            let index = free.popLast() ?? places.count
            let id = SessionID(index: index, value: value)
            let place = Place(id: id, connection: connection, epoch: epoch, endOfLife: endOfLife, state: .leased)
            if index == places.count { places.append(place) } else { places[index] = place }
            count += 1
            return id
        }

        mutating func set(_ state: Session.State, of id: SessionID) {
            precondition(holds(id), "a session of the pool")
            places[id.index].state = state
        }

        mutating func remove(_ id: SessionID) {
            precondition(holds(id), "a session of the pool")
            places[id.index].connection = nil
            free.append(id.index)
            count -= 1
        }
    }
}
