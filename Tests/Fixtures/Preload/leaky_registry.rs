// A Rust program that leaks through the global allocator, built by the tests with Debian's rustc at
// -O: Rust code keeps no frame pointers, __rust_alloc tail-calls malloc, and a Vec's growth
// allocates in the standard library's RawVec code, so only unwinding finds the function that
// leaked. The leaking lines are marked LEAK-*; the tests find their numbers in this file.
use std::sync::atomic::{AtomicUsize, Ordering};

// Where every leaked pointer ends up, so the optimizer cannot drop an allocation nobody reads.
static ESCAPED: AtomicUsize = AtomicUsize::new(0);

struct Registry {
    names: Vec<Vec<u32>>,
}

impl Registry {
    #[inline(never)]
    fn remember(&mut self, key: u32) {
        let record = Box::new([key; 1000]); // LEAK-BOX
        ESCAPED.store(Box::into_raw(record) as usize, Ordering::SeqCst);
    }

    #[inline(never)]
    fn grow(&mut self, key: u32) {
        let mut values = Vec::new();
        for value in 0..key * 300 {
            values.push(value); // LEAK-VEC
        }
        self.names.push(values);
    }
}

#[inline(never)]
fn fill(registry: &mut Registry) {
    for key in 0..10 {
        registry.remember(key);
    }
    for key in 1..5 {
        registry.grow(key);
    }
}

fn main() {
    let mut registry = Registry { names: Vec::new() };
    fill(&mut registry);
    let kept = registry.names.len();
    std::mem::forget(registry);
    println!("leaky_registry done {} {}", kept, ESCAPED.load(Ordering::SeqCst) != 0);
}
