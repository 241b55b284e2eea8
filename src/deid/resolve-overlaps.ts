import { detection, type Detection } from './detection.js';

/**
 * Merges overlapping detections into one span per cluster, covering the union of the cluster
 * (recall first: anything any recognizer flagged stays masked). The cluster takes the type,
 * recognizer and explanation of its most confident member (ties: the longer one), and that
 * member's confidence. Output is sorted by start and non-overlapping. O(n log n).
 */
export function resolveOverlaps(detections: readonly Detection[]): Detection[] {
  const sorted = detections.slice().sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Detection[] = [];
  let cluster: Detection | undefined;
  let best: Detection | undefined;
  let end = -1;
  const flush = (): void => {
    if (cluster !== undefined && best !== undefined) out.push(detection(cluster.start, end, best.type, best.confidence, best.recognizer, best.explanation));
  };
  for (const d of sorted) {
    if (cluster === undefined || d.start >= end) {
      flush();
      cluster = d;
      best = d;
      end = d.end;
      continue;
    }
    end = Math.max(end, d.end);
    if (best === undefined || d.confidence > best.confidence || (d.confidence === best.confidence && d.end - d.start > best.end - best.start)) {
      best = d;
    }
  }
  flush();
  return out;
}
