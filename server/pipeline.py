"""What the DHCPv4 and DHCPv6 pipelines share: the three phases of a burst,
drops, per-burst counters and Kea's class evaluation order.

A burst of datagrams goes through three phases:

1. each datagram runs the family's fixed steps over its exchange (parse,
   hooks, accept checks, classify, select subnet, look up the host, the message
   handler, which may stage lease changes in the lease table);
2. all staged lease changes are written in one back-end batch (group commit);
3. only then are the replies handed back for sending, except those whose leases
   did not reach storage: a reply never leaves before its lease is stored.
"""
import logging

from kea_tools.server.hooks import DROP, SKIP


class PipelineBase:
    """Subclasses set ``exchange`` (the per-request context class), ``family``
    and ``log``, and define ``receive``, ``failed_commit`` and ``send``."""

    exchange = None
    family = 4
    log = logging.getLogger("kea-dhcp")

    def __init__(self):
        # Counter increments of the current burst, added to the statistics once
        # per burst: one sample per name per burst instead of one per packet.
        self.counts = {}
        self.debug = self.log.isEnabledFor(logging.DEBUG)
        self.receive_drop = f"pkt{self.family}-receive-drop"
        self.subnet_select = f"subnet{self.family}_select"

    def bump(self, name, delta=1):
        counts = self.counts
        counts[name] = counts.get(name, 0) + delta

    def flush_counts(self):
        counts, self.counts = self.counts, {}
        add = self.stats.add
        for name, delta in counts.items():
            add(name, delta)

    # --- the burst ---------------------------------------------------------------
    def process(self, batch):
        """Handle a burst of Incoming datagrams; returns the replies to send."""
        now = int(self.clock())
        exchanges = []
        make = self.exchange
        for tag, incoming in enumerate(batch):
            ex = make(tag, incoming)
            try:
                self.receive(ex, now)
            except Exception as err:  # a bug on one packet must not stop the server
                self.log.exception("DHCP%d_PACKET_PROCESS_EXCEPTION exception processing "
                                   "packet: %s", self.family, err)
                self.bump(self.receive_drop)
                ex.response = None
                ex.drop = "processing-failed"
            exchanges.append(ex)
        failed = self.leases.commit()
        out = []
        for ex in exchanges:
            if ex.response is None and not ex.committed_hook:
                continue
            if ex.tag in failed:
                self.failed_commit(ex, failed[ex.tag])
                if ex.response is None:
                    continue
            try:
                sent = self.send(ex)
            except Exception as err:
                self.log.exception("DHCP%d_PACKET_SEND_FAIL failed to build the response: %s",
                                   self.family, err)
                continue
            if sent is not None:
                out.append(sent)
        self.flush_counts()
        return out

    def select_and_handle(self, ex, query, now):
        """The steps after early classification, the same for both families:
        subnet selection and its subnetN_select hook, host lookup and the
        classes that depend on it, then the message handler."""
        n = self.family
        ex.subnet = self.select_subnet(ex)
        hooks = self.hooks
        if hooks.has(self.subnet_select):
            subnets = self.model.subnets
            handle = hooks.call(self.subnet_select, {
                f"query{n}": query, f"subnet{n}": ex.subnet, f"subnet{n}collection": subnets})
            if handle.status == DROP:
                return self.dropped(ex, f"dropped by subnet{n}_select")
            chosen = handle.arguments[f"subnet{n}"]
            ex.subnet = None if handle.status == SKIP else (
                chosen if chosen in subnets else ex.subnet)
        self.host_classify(ex)
        if "DROP" in ex.classes:
            return self.dropped(ex, "in class DROP")
        if self.debug:
            self.log.debug("DHCP%d_SUBNET_SELECTED %s: subnet %s, classes %s", n,
                           self.label(ex), ex.subnet.prefix if ex.subnet else "none",
                           " ".join(ex.classes))
        return self.handlers[ex.msg_type](ex, now)

    def dropped(self, ex, reason):
        self.bump(self.receive_drop)
        ex.drop = reason
        ex.response = None
        if self.debug:
            self.log.debug("DHCP%d_PACKET_DROP %s: %s", self.family, self.label(ex), reason)
        return None

    # --- classification (Kea's order) ------------------------------------------------
    def tested_classes(self, ex, known):
        """Add the classes whose tests depend on KNOWN (``known``) or not, in
        definition order; only-if-required classes wait for required_classes."""
        classes = ex.classes
        for cls in self.model.classes:
            if cls.test is None or cls.only_if_required or cls.depends_on_known != known:
                continue
            if cls.name not in classes and self.evaluate(cls, ex):
                classes.append(cls.name)

    def host_classify(self, ex):
        """Host lookup assigns KNOWN/UNKNOWN and the host's classes; then the
        classes that depend on KNOWN are evaluated."""
        if ex.subnet is not None and self.identified(ex):
            ex.reservation = self.engine.reservation_for(ex.subnet, self.identifiers(ex))
        classes = ex.classes
        if ex.reservation is not None:
            classes.append("KNOWN")
            for name in ex.reservation.client_classes:
                if name not in classes:
                    classes.append(name)
        else:
            classes.append("UNKNOWN")
        self.tested_classes(ex, True)

    @staticmethod
    def identified(ex):
        return True

    def required_classes(self, ex):
        """require-client-classes of the shared network, subnet and pool."""
        levels = []
        sub = ex.subnet
        if sub is not None:
            if sub.shared_network is not None:
                levels.append(sub.shared_network)
            levels.append(sub)
        if ex.pool is not None:
            levels.append(ex.pool)
        by_name = self.model.classes_by_name
        for level in levels:
            for name in getattr(level, "require_client_classes", ()):
                cls = by_name.get(name)
                if cls is not None and name not in ex.classes and (
                        cls.test is None or self.evaluate(cls, ex)):
                    ex.classes.append(name)

    def evaluate(self, cls, ex):
        try:
            return bool(cls.test(ex))
        except Exception as err:  # Kea: an evaluation error means "not a member"
            if self.debug:
                self.log.debug("EVAL_RESULT class %s: evaluation failed: %s", cls.name, err)
            return False
