import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from "@aws-sdk/client-eventbridge";
import { type DetailType, EVENT_SOURCE } from "../core/events.js";

/** Publishes product events to EventBridge in batches of 10 (the PutEvents limit). */
export interface EventPublisher {
  publish(detailType: DetailType, detail: Record<string, unknown>): void;
  flush(): Promise<{ published: number; failed: number }>;
}

/** An EventBridge publisher for `busName`; events are buffered until `flush`. */
export function eventBridgePublisher(client: EventBridgeClient, busName: string): EventPublisher {
  const pending: PutEventsRequestEntry[] = [];
  return {
    publish(detailType, detail) {
      pending.push({
        Source: EVENT_SOURCE,
        DetailType: detailType,
        Detail: JSON.stringify(detail),
        EventBusName: busName,
      });
    },
    async flush() {
      let published = 0;
      let failed = 0;
      while (pending.length > 0) {
        const batch = pending.splice(0, 10);
        try {
          const out = await client.send(new PutEventsCommand({ Entries: batch }));
          failed += out.FailedEntryCount ?? 0;
          published += batch.length - (out.FailedEntryCount ?? 0);
        } catch {
          // events are notifications: losing them must not fail the reconcile that produced them
          failed += batch.length;
        }
      }
      return { published, failed };
    },
  };
}

/** A publisher that keeps events in memory (CLI runs and tests). */
export function memoryPublisher(): EventPublisher & {
  events: { detailType: DetailType; detail: Record<string, unknown> }[];
} {
  const events: { detailType: DetailType; detail: Record<string, unknown> }[] = [];
  return {
    events,
    publish(detailType, detail) {
      events.push({ detailType, detail });
    },
    async flush() {
      return { published: events.length, failed: 0 };
    },
  };
}
