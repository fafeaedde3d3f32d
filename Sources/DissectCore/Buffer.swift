/// A growable scratch buffer behind a stable pointer, reused across batches so
/// hot loops never allocate. Contents are undefined after `reserve` grows it;
/// callers that need zeros call `zero(_:)`.
public final class Buffer<Element: ExpressibleByIntegerLiteral> {
    public var pointer: UnsafeMutablePointer<Element>
    public var capacity: Int

    public init(capacity: Int = 0) {
        self.capacity = max(capacity, 1)
        pointer = .allocate(capacity: self.capacity)
        pointer.initialize(repeating: 0, count: self.capacity)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `count` elements; returns the (possibly new) pointer.
    @inlinable @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Element> {
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
    public func zero(_ count: Int) -> UnsafeMutablePointer<Element> {
        let result = reserve(count)
        result.update(repeating: 0, count: count)
        return result
    }

    public func array(_ count: Int) -> [Element] {
        Array(UnsafeBufferPointer(start: pointer, count: count))
    }
}

/// Token and character indices.
public typealias IndexBuffer = Buffer<Int32>
