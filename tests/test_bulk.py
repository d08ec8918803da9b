import gc

import pytest

from kea_tools.bulk import gc_paused


def test_gc_paused_restores_the_previous_state_even_on_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with gc_paused():
            assert not gc.isenabled()
            raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_gc_paused_as_decorator():
    @gc_paused()
    def inside():
        return gc.isenabled()

    assert inside() is False and gc.isenabled()


def test_release_free_memory_is_safe_to_call():
    from kea_tools.bulk import release_free_memory
    release_free_memory()
    release_free_memory()
