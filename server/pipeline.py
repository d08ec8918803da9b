"""What the DHCPv4 and DHCPv6 pipelines share: the three phases of a burst,
drops, per-burst counters and the calls into kea_tools.classify in Kea's
class evaluation order.

A burst of datagrams goes through three phases:

1. each datagram runs the family's fixed steps over its exchange (parse,
   hooks, accept checks, classify, select subnet, look up the host, the message
   handler, which may stage lease changes in the lease table);
2. all staged lease changes are written in one back-end batch (group commit);
3. only then are the replies handed back for sending, except those whose leases
   did not reach storage: a reply never leaves before its lease is stored.
"""
import logging

from kea_tools.server.ddns import FixedDdns
from kea_tools.classify import Query
from kea_tools.server.configmap import classifier_for
from kea_tools.server.hooks import DROP, SKIP


class PipelineBase:
    """Subclasses set ``exchange`` (the per-request context class), ``family``
    and ``log``, and define ``receive``, ``failed_commit`` and ``send``."""

    exchange = None
    family = 4
    log = logging.getLogger("kea-dhcp")

    def __init__(self, ddns=None, sender=None):
        # Counter increments of the current burst, added to the statistics once
        # per burst: one sample per name per burst instead of one per packet.
        self.counts = {}
        # DDNS: name processing always runs (Kea answers option 12/81/39 with
        # updates off too); NCRs only go out when dhcp-ddns enables updates.
        self.ddns = ddns if ddns is not None else FixedDdns()
        self.sender = sender if sender is not None and sender.enabled else None
        self.ddns_generates = self.ddns.generates(self.family)
        # (tag, lease, old lease, add?) of this burst: NCRs leave only for
        # leases that reached storage.
        self.ncr_queue = []
        self.debug = self.log.isEnabledFor(logging.DEBUG)
        n = self.family
        self.receive_drop = f"pkt{n}-receive-drop"
        self.subnet_select = f"subnet{n}_select"
        self._committed_hook, self._send_hook = f"leases{n}_committed", f"pkt{n}_send"
        self._query_arg, self._response_arg = f"query{n}", f"response{n}"
        self._select_hook, self._lease_arg = f"lease{n}_select", f"lease{n}"

    def lease_select(self, ex, result, fake):
        """leaseN_select: a callout may replace the lease, or refuse it (SKIP or
        DROP: False)."""
        if not self.hooks.has(self._select_hook):
            return True
        n = self.family
        handle = self.hooks.call(self._select_hook, {
            self._query_arg: ex.query, f"subnet{n}": result.subnet, "fake_allocation": fake,
            self._lease_arg: result.lease})
        if handle.status in (SKIP, DROP):
            return False
        result.lease = handle.arguments[self._lease_arg]
        return True

    def send_hooks(self, ex, resp, leases):
        """leasesN_committed (after the burst's commit), then pktN_send; returns
        the response to send, or None when a callout dropped it."""
        hooks, n = self.hooks, self.family
        query_arg, response_arg = self._query_arg, self._response_arg
        if ex.committed_hook and hooks.has(self._committed_hook):
            handle = hooks.call(self._committed_hook, {
                query_arg: ex.query, response_arg: resp, f"leases{n}": leases,
                f"deleted_leases{n}": list(ex.deleted)})
            if handle.status == DROP:
                return None
        if resp is None:
            return None
        if hooks.has(self._send_hook):
            handle = hooks.call(self._send_hook, {query_arg: ex.query, response_arg: resp,
                                                  f"subnet{n}": ex.subnet})
            if handle.status == DROP:
                return None
            resp = handle.arguments[response_arg]
        return resp

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
        if self.ncr_queue:
            self.send_ncrs(failed)
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

    # --- DDNS ---------------------------------------------------------------------
    def queue_add(self, ex, lease, old):
        """Kea's createNameChangeRequests for a granted lease, once it is stored."""
        if self.sender is not None:
            self.ncr_queue.append((ex.tag, lease, old, True))

    def queue_remove(self, ex, lease):
        """The lease's names go away (release, decline, a lease the allocation
        engine drops or takes over), once the change is stored."""
        if self.sender is not None and lease.hostname:
            self.ncr_queue.append((ex.tag, lease, None, False))

    def send_ncrs(self, failed):
        queue, self.ncr_queue = self.ncr_queue, []
        sender = self.sender
        for tag, lease, old, add in queue:
            if tag in failed:
                continue
            if add:
                sender.add(lease, old)
            else:
                sender.remove(lease)

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
        if self.host_classify(ex):
            return self.dropped(ex, "dropped as member of the special class 'DROP' "
                                    "after host reservation lookup")
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

    # --- classification (Kea's order, applied by kea_tools.classify) ---------------
    def init_classes(self):
        """The Classifier over the model's compiled classes; class membership is
        logged as Kea's DHCPn_CLASS_ASSIGNED on the packet logger."""
        self.classifier = classifier_for(
            self.model, self.family, logger=self.log,
            assigned_id=f"DHCP{self.family}_CLASS_ASSIGNED")

    def early_classify(self, ex, packet, index=None):
        """Build the packet's one Query and run Kea's steps before subnet
        selection (ALL, VENDOR_CLASS_*, tests not depending on KNOWN); the
        exchange's ``classes`` is the query's ordered set of class names.
        ``index`` is the client message's options by code, if already built.
        True if the packet is in DROP."""
        inc = ex.incoming
        query = ex.class_query = Query(packet, inc.iface, inc.src_address, inc.local_address)
        if index is not None:
            query.refresh(index)
        ex.classes = query.classes
        return self.classifier.classify(query, self.class_label(ex))

    def class_label(self, ex):
        """The packet's name in class logs, computed only when they are written."""
        return (lambda: self.label(ex)) if self.debug else None

    def host_classify(self, ex):
        """Host lookup assigns KNOWN/UNKNOWN and the host's classes; then the
        classes that depend on KNOWN are evaluated. True if the packet is in DROP."""
        if ex.subnet is not None and self.identified(ex):
            ex.reservation = self.engine.reservation_for(ex.subnet, self.identifiers(ex))
        res = ex.reservation
        return self.classifier.classify_known(
            ex.class_query, res is not None, res.client_classes if res is not None else (),
            self.class_label(ex))

    @staticmethod
    def identified(ex):
        return True

    def required_classes(self, ex):
        """require-client-classes of the shared network, subnet and pool, in
        that order (ARM: "the order in which required classes are considered")."""
        names = []
        sub = ex.subnet
        if sub is not None:
            if sub.shared_network is not None:
                names.extend(sub.shared_network.require_client_classes)
            names.extend(sub.require_client_classes)
        if ex.pool is not None:
            names.extend(ex.pool.require_client_classes)
        if names and ex.class_query is not None:
            self.classifier.evaluate_required(ex.class_query, names, self.class_label(ex))
