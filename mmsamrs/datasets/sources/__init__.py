"""Detection-source readers (DOTA, DIOR, FAIR1M, HRSC2016; COCO, YOLO, YOLO-OBB, VOC with
classes of one's own) as registered datasets."""
from .coco import COCODetectionDataset
from .dior import DIORDataset
from .dota import DOTADataset
from .fair1m import FAIR1MDataset
from .geotiff import GeoTIFFSceneDataset
from .hrsc import HRSCDataset, load_hrsc_instance_masks
from .isaid import ISAID_CLASSES, ISAIDInstanceDataset, code_crops, read_rgb_codes, rgb_codes
from .problems import AnnotationError, Problem, SourceReport
from .source_dataset import SourceDataset, image_search
from .voc import VOCDataset
from .yolo import YOLODataset, YOLOOBBDataset

__all__ = [
    'COCODetectionDataset', 'VOCDataset', 'YOLODataset', 'YOLOOBBDataset',
    'GeoTIFFSceneDataset',
    'AnnotationError', 'DIORDataset', 'DOTADataset', 'FAIR1MDataset', 'HRSCDataset',
    'Problem', 'SourceDataset', 'SourceReport', 'load_hrsc_instance_masks',
    'ISAID_CLASSES', 'ISAIDInstanceDataset', 'code_crops', 'image_search', 'read_rgb_codes',
    'rgb_codes'
]
