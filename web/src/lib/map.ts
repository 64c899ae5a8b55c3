// MapLibre on gridgov's own basemap and vector tiles. Every address is the server's:
// the styles' relative URLs are made absolute with location.origin, CJK labels are drawn
// with the machine's local fonts (localIdeographFontFamily), Latin glyphs come from /fonts/.

import maplibregl, { type LngLatBoundsLike, type StyleSpecification } from 'maplibre-gl';
import { t } from './i18n';

export { maplibregl };

/** Local CJK fonts, the first one the machine has draws ideographs. */
export const LOCAL_CJK_FONTS = [
  'Noto Sans CJK SC',
  'Source Han Sans SC',
  'WenQuanYi Micro Hei',
  'WenQuanYi Zen Hei',
  'PingFang SC',
  'Hiragino Sans GB',
  'Microsoft YaHei',
  'SimHei',
  'sans-serif',
].join(', ');

export type Theme = 'dark' | 'light';

export const BACKGROUND: Record<Theme, string> = { dark: '#0b1628', light: '#eef1ea' };

/** A server-relative address made absolute, keeping `{z}`-style templates unescaped. */
export function absolute(url: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return url;
  return url.startsWith('/') ? `${location.origin}${url}` : `${location.origin}/${url}`;
}

/** Makes every address in a style absolute (sources' url and tiles, glyphs, sprite). */
export function absolutize(style: StyleSpecification): StyleSpecification {
  const copy = structuredClone(style);
  for (const source of Object.values(copy.sources)) {
    const s = source as { url?: string; tiles?: string[]; data?: unknown };
    if (typeof s.url === 'string') s.url = absolute(s.url);
    if (Array.isArray(s.tiles)) s.tiles = s.tiles.map(absolute);
    if (typeof s.data === 'string') s.data = absolute(s.data);
  }
  if (copy.glyphs) copy.glyphs = absolute(copy.glyphs);
  if (typeof copy.sprite === 'string') copy.sprite = absolute(copy.sprite);
  else if (Array.isArray(copy.sprite)) copy.sprite = copy.sprite.map((s) => ({ ...s, url: absolute(s.url) }));
  return copy;
}

export interface LoadedStyle {
  style: StyleSpecification;
  /** False when the server serves no basemap style: a plain background stands in. */
  basemap: boolean;
}

/** The basemap style of the theme (`/styles/{theme}.json`), or a plain background without it. */
export async function loadStyle(theme: Theme): Promise<LoadedStyle> {
  try {
    const response = await fetch(`/styles/${theme}.json`, { credentials: 'same-origin' });
    if (response.ok) {
      return { style: absolutize((await response.json()) as StyleSpecification), basemap: true };
    }
  } catch {
    // Fall through to the plain style.
  }
  return {
    basemap: false,
    style: {
      version: 8,
      sources: {},
      layers: [{ id: 'background', type: 'background', paint: { 'background-color': BACKGROUND[theme] } }],
    },
  };
}

/** Whether the style can draw text (it names a glyphs address). */
export function hasGlyphs(style: StyleSpecification): boolean {
  return typeof style.glyphs === 'string' && style.glyphs.length > 0;
}

function mapLocale(): Record<string, string> {
  return {
    'NavigationControl.ZoomIn': t('map.zoomIn'),
    'NavigationControl.ZoomOut': t('map.zoomOut'),
    'NavigationControl.ResetBearing': t('map.resetBearing'),
    'GeolocateControl.FindMyLocation': t('map.locate'),
    'Popup.Close': t('common.close'),
    'ScaleControl.Meters': t('map.metres'),
    'ScaleControl.Kilometers': t('map.kilometres'),
  };
}

export interface MapOptions {
  container: HTMLElement;
  style: StyleSpecification;
  bounds?: LngLatBoundsLike;
  center?: [number, number];
  zoom?: number;
}

export function createMap(options: MapOptions): maplibregl.Map {
  const init: maplibregl.MapOptions = {
    container: options.container,
    style: options.style,
    localIdeographFontFamily: LOCAL_CJK_FONTS,
    attributionControl: false,
    locale: mapLocale(),
    // Tiles stay in the browser's cache; the server answers unchanged ones with 304.
    maxTileCacheSize: 2000,
    // Needed for the screenshots the tests take of the canvas.
    canvasContextAttributes: { preserveDrawingBuffer: true },
  };
  if (options.bounds) init.bounds = options.bounds;
  if (options.center) init.center = options.center;
  if (options.zoom !== undefined) init.zoom = options.zoom;
  return new maplibregl.Map(init);
}

/** Adds gridgov's vector tiles of a layer (TileJSON at /tiles/{layer}.json) as a source. */
export function addTilesSource(map: maplibregl.Map, layer: string, promoteId?: string): void {
  if (map.getSource(layer)) return;
  const spec: maplibregl.VectorSourceSpecification = { type: 'vector', url: absolute(`/tiles/${layer}.json`) };
  if (promoteId) spec.promoteId = { [layer]: promoteId };
  map.addSource(layer, spec);
}

/** The bounding box of a GeoJSON geometry, or null for an empty one. */
export function bboxOf(geometry: GeoJSON.Geometry | null | undefined): [number, number, number, number] | null {
  let box: [number, number, number, number] | null = null;
  const visit = (p: GeoJSON.Position): void => {
    const x = p[0];
    const y = p[1];
    if (x === undefined || y === undefined) return;
    if (!box) box = [x, y, x, y];
    else box = [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x), Math.max(box[3], y)];
  };
  const walk = (g: GeoJSON.Geometry): void => {
    switch (g.type) {
      case 'Point': visit(g.coordinates); break;
      case 'MultiPoint': case 'LineString': g.coordinates.forEach(visit); break;
      case 'MultiLineString': case 'Polygon': g.coordinates.forEach((r) => r.forEach(visit)); break;
      case 'MultiPolygon': g.coordinates.forEach((p) => p.forEach((r) => r.forEach(visit))); break;
      case 'GeometryCollection': g.geometries.forEach(walk); break;
    }
  };
  if (geometry) walk(geometry);
  return box;
}

/** Great-circle distance in metres. */
export function haversine(a: [number, number], b: [number, number]): number {
  const r = 6_371_008.8;
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * r * Math.asin(Math.min(1, Math.sqrt(s)));
}

/**
 * The font stack the style's own labels use (the server's glyphs have it); null when the
 * style draws no text (then gridgov's layers draw none either: no glyph is asked for that
 * the server may not have).
 */
export function fontStackOf(style: StyleSpecification): string[] | null {
  for (const layer of style.layers) {
    if (layer.type !== 'symbol') continue;
    const font = layer.layout?.['text-font'];
    if (Array.isArray(font) && font.every((f) => typeof f === 'string')) return font as string[];
  }
  return null;
}

/** The extent of a gridgov layer from its TileJSON (`bounds`), or the whole world without one. */
export async function layerBounds(layer: string): Promise<[number, number, number, number]> {
  try {
    const response = await fetch(`/tiles/${layer}.json`, { credentials: 'same-origin' });
    if (response.ok) {
      const tj = (await response.json()) as { bounds?: [number, number, number, number] };
      if (tj.bounds) return tj.bounds;
    }
  } catch {
    // The world, below.
  }
  return [-180, -85, 180, 85];
}

/**
 * Adds a layer under the basemap's labels (its first symbol layer), so that gridgov's fills
 * and lines do not hide the names of places and roads.
 */
export function addUnderLabels(map: maplibregl.Map, layer: maplibregl.AddLayerObject): void {
  const labels = map.getStyle().layers.find((l) => l.type === 'symbol' && !l.id.startsWith('gridgov-'));
  map.addLayer(layer, labels?.id);
}
