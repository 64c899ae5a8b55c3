// What the desk pages (the grid planner, the sanitation view) start with: the signed-in user
// and the header, the light style and the glossary, the townships of the user's scope in the
// `#township` select, and the map over the first of them with the villages' outlines, its
// style read, ready for the page's own layers.

import { api, query } from './api';
import { byId, h } from './dom';
import { loadGlossary } from './glossary';
import { renderHeader } from './header';
import { applyStatic, t, type MessageKey } from './i18n';
import { addTilesSource, addUnderLabels, bboxOf, createMap, layerBounds, loadStyle, maplibregl } from './map';
import { canRead, requireUser, scopeDivision, type Me } from './session';

/** A township or village as the items API lists it. */
export interface Division {
  geometry: GeoJSON.Geometry | null;
  properties: { code: string; name: string };
}

export interface Desk {
  me: Me;
  /** The division of the user's scope. */
  scope: string;
  /** The townships of the scope (the scope's own township for a village or grid scope). */
  townships: Division[];
  map: maplibregl.Map;
}

/**
 * Opens a desk page titled `title`: villages outlined `villageLine` pixels wide when the role
 * reads them. The map is exposed as `window.gridgov.map` for the browser tests.
 */
export async function openDesk(title: MessageKey, villageLine: number): Promise<Desk> {
  applyStatic(document);
  const me = await requireUser();
  renderHeader(byId('header'), { title, me });
  const scope = scopeDivision(me);
  const [{ style, basemap }] = await Promise.all([loadStyle('light'), loadGlossary()]);
  if (!basemap) byId('map-note').textContent = t('map.noBasemap');
  const townshipScope = scope.endsWith('000000') ? scope : `${scope.slice(0, 9)}000`;
  const townships = (await api<{ features: Division[] }>(`/api/v1/layers/townships/items${query({ division: townshipScope, limit: 100 })}`)).features;
  byId<HTMLSelectElement>('township').replaceChildren(...townships.map((tw) => h('option', { value: tw.properties.code }, tw.properties.name)));
  const map = createMap({ container: byId('map'), style, bounds: bboxOf(townships[0]?.geometry) ?? (await layerBounds('townships')) });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({}), 'bottom-left');
  (window as unknown as { gridgov: object }).gridgov = { map };
  // gridgov's layers are added as soon as the style is read, so that their tiles load
  // together with the basemap's rather than after them.
  await new Promise<void>((resolve) => (map.isStyleLoaded() ? resolve() : map.once('style.load', () => resolve())));
  if (canRead(me, 'villages')) {
    addTilesSource(map, 'villages');
    addUnderLabels(map, { id: 'villages-line', type: 'line', source: 'villages', 'source-layer': 'villages', paint: { 'line-color': '#9aa9b8', 'line-width': villageLine } });
  }
  return { me, scope, townships, map };
}
