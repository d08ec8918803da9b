"""A dict from key to the values sharing it, compact for the common case.

Almost every hardware address or client-id belongs to exactly one lease, so the
value is stored bare and becomes a list only when a second one shares the key: a
million sets (the obvious structure) would cost over 200 MB on their own.
"""


class MultiIndex(dict):
    __slots__ = ()

    def add(self, key, value):
        current = self.get(key)
        if current is None:
            self[key] = value
        elif type(current) is list:
            current.append(value)
        else:
            self[key] = [current, value]

    def remove(self, key, value):
        current = self.get(key)
        if current is None:
            return
        if type(current) is not list:
            if current is value or current == value:
                del self[key]
            return
        for i, item in enumerate(current):
            if item is value or item == value:
                del current[i]
                break
        if len(current) == 1:
            self[key] = current[0]
        elif not current:
            del self[key]

    def values_of(self, key):
        """The values under ``key`` as a list (empty when none)."""
        current = self.get(key)
        if current is None:
            return []
        return list(current) if type(current) is list else [current]
