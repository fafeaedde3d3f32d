/// A growable scratch buffer behind a stable pointer, reused across batches so
/// hot loops never allocate. Contents are undefined after `reserve` grows it;
/// callers that need zeros call `zero(_:)`.
public final class Buffer<Element: ExpressibleByIntegerLiteral> {
    public var pointer: UnsafeMutablePointer<Element>
    public var capacity: Int

    public init(capacity: Int = 0) {
        self.capacity = max(capacity, 1)
        pointer = Buffer.allocate(self.capacity)
        pointer.initialize(repeating: 0, count: self.capacity)
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// Cache-line-aligned room for `count` elements, so where a buffer lands does not
    /// decide how many of the SIMD kernels' 32-byte loads split a cache line. With
    /// malloc's 16-byte alignment, adding unrelated buffers to `TaggerShard` moved the
    /// per-sentence forward kernel from 238–297 to 306–315 CPU samples of an epoch at
    /// hidden 50 (perf, unchanged kernel code); aligned, 228–282.
    @usableFromInline
    static func allocate(_ count: Int) -> UnsafeMutablePointer<Element> {
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: count * MemoryLayout<Element>.stride, alignment: max(64, MemoryLayout<Element>.alignment))
        return raw.bindMemory(to: Element.self, capacity: count)
    }

    /// Makes room for `count` elements; returns the (possibly new) pointer.
    @inlinable @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Element> {
        if count > capacity {
            let newCapacity = max(count, capacity * 3 / 2)
            UnsafeMutableRawPointer(pointer).deallocate()
            pointer = Buffer.allocate(newCapacity)
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
