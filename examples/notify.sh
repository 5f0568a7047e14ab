#!/bin/sh
# Example hanet notify hook (notify.command): logs the event to the journal and, for the events that matter,
# could page someone. hanet runs it after the change was made, with the event name as $1 and HANET_* variables;
# it is killed after notify.timeout_ms, and its exit status is only logged.
logger -t hanet-notify -- "$HANET_EVENT node=$HANET_NODE role=$HANET_ROLE lan=$HANET_LAN peer=$HANET_PEER addresses=$HANET_ADDRESSES reason=$HANET_REASON time=$HANET_TIME"
case "$1" in
  unserved|lease-expired|takeover-refused)
    # e.g.: curl -fsS -m 5 -d "hanet $HANET_NODE: $HANET_EVENT $HANET_LAN $HANET_ADDRESSES" https://alerts.example/hook
    ;;
esac
exit 0
