/// A growable scratch buffer of `T` behind a stable pointer, reused across
/// batches so hot loops never allocate. Contents are undefined after `reserve`
/// grows it; callers that need zeros call `zero(count:)`.
public final class Buffer<T: Scalar> {
    public var pointer: UnsafeMutablePointer<T>
    public var capacity: Int

    public init(capacity: Int = 0) {
        self.capacity = max(capacity, 1)
        pointer = .allocate(capacity: self.capacity)
        pointer.initialize(repeating: 0, count: self.capacity)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `count` elements; returns the (possibly new) pointer.
    @inlinable @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<T> {
        if count > capacity {
            let newCapacity = max(count, capacity * 3 / 2)
            pointer.deallocate()
            pointer = .allocate(capacity: newCapacity)
            pointer.initialize(repeating: 0, count: newCapacity)
            capacity = newCapacity
        }
        return pointer
    }

    /// Reserves `count` elements and sets them to zero.
    @inlinable @discardableResult
    public func zero(_ count: Int) -> UnsafeMutablePointer<T> {
        let result = reserve(count)
        result.update(repeating: 0, count: count)
        return result
    }

    public func array(_ count: Int) -> [T] {
        Array(UnsafeBufferPointer(start: pointer, count: count))
    }
}

/// The same for integer indices.
public final class IndexBuffer {
    public var pointer: UnsafeMutablePointer<Int32>
    public var capacity: Int

    public init(capacity: Int = 0) {
        self.capacity = max(capacity, 1)
        pointer = .allocate(capacity: self.capacity)
        pointer.initialize(repeating: 0, count: self.capacity)
    }

    deinit { pointer.deallocate() }

    @inlinable @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Int32> {
        if count > capacity {
            let newCapacity = max(count, capacity * 3 / 2)
            pointer.deallocate()
            pointer = .allocate(capacity: newCapacity)
            pointer.initialize(repeating: 0, count: newCapacity)
            capacity = newCapacity
        }
        return pointer
    }
}
